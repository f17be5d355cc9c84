"""The plan: its model, how it is read and checked, unit names, grade bands."""
