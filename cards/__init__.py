"""Adaptive Card templates (one Jinja2 template per card) and the renderer that fills them."""
