"""The console's screens: one module per screen, and the dialogs they open."""
