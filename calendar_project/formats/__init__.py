"""Rounds' own date and time formats, one module per language (FORMAT_MODULE_PATH).

Templates and code name a format ("SHORT_DATETIME_FORMAT"), never a pattern, so each language
shows one way of writing a date; machine formats (ISO in attributes, CSV, JSON, FHIR) stay ISO.
"""
