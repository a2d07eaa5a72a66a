"""What only app.py (and serve.py) assembles: sign-in, database start, embedding, the global filters,
the page registry, presentation mode, the look and every page's header."""
