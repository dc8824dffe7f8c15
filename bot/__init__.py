"""The Teams-facing layer: the only package (with app.py) that imports botbuilder."""
