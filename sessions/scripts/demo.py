# Loaded by demo_setup.py with load_script("demo").
print("Demo session: motors roby, robz; counters diode, diode2, sim_ct_gauss (a peak at roby=5), simu1 (MCA);")
print("  the P201 card p201 (ct1, ct2, ct_timer), the MCA mca1, the camera lima_simulator.")
print("Try: ascan(roby, 0, 9, 10, 0.1, sim_ct_gauss)   or   ct(0.1)   or   fscan(roby, 0, 0.01, 500, 0.002, ct1, ct_timer)")
