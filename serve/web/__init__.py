"""The web page served at ``/``: search, ask and the index's health, in one server-rendered page.

``public`` lists the only paths served without the API key (the page's shell and its static assets,
which carry no repository data); ``files`` decides which files may be shown; ``highlight`` turns code
into escaped, highlighted HTML; ``facts`` adds what ``/status`` does not say (size on disk, languages);
``pages`` renders the Jinja2 templates. The routes live in ``serve/routes/web.py``.
"""
