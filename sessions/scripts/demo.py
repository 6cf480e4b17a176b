# Loaded by demo_setup.py with load_script("demo").
print("Demo session: motors roby, robz; counters diode, diode2, sim_ct_gauss (a peak at roby=5), simu1 (MCA).")
print("Try: ascan(roby, 0, 9, 10, 0.1, sim_ct_gauss)   or   ct(0.1)")
