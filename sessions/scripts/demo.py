# Loaded by demo_setup.py with load_script("demo").
print("Demo session: motors roby, robz; counters diode, diode2.")
