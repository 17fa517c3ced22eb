"""The Streamlit app shell: the only package (besides app.py and the page scripts) that imports Streamlit."""
