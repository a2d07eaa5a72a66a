"""Streamlit-free presentation shared by the pages, the brief and the slides: formatting, money, palette, classes,
charts."""
