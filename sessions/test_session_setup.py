# Runs in the test_session namespace after its objects are loaded.
