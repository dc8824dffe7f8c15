"""The botbuilder-free core: topics and their fields, rules R1–R12, the agreement model, texts.

Nothing in this package imports botbuilder or touches the network, so every rule of the
municipality's guidance can be tested directly as plain Python.
"""
