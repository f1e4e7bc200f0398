"""Campaign plans (SPEC section 6): read CSV, Excel and Hootsuite files, preview, import, export.

``reading`` turns bytes into rows of text, ``rows`` turns a row into a checked plan row,
``importing`` previews and commits through the posts services, ``exporting`` writes plans.
The web views, the admin and the management commands all go through ``importing``.
"""
