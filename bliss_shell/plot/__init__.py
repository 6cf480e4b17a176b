"""The live plots: a Bokeh server, one per session, whose browser pages draw the session's scans from Redis.

``flint()`` at the prompt and ``bliss plot SESSION`` start it or find it (``launcher.py``); it runs as
``python -m bliss_shell.plot SESSION`` (``__main__.py``), reads Redis only, and never slows a scan.
"""
