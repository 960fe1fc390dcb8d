"""Widgets, dialogs and their Qt item models. They call services through tasks.py, never SQL or HTTP."""
