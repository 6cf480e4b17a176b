# Runs in the demo session's namespace after its objects are loaded.
load_script("demo")
