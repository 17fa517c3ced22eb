"""The map component: the base map and a selection's data (builder.py, Streamlit-free), the browser files it
serves or inlines (assets.py, browser/)."""
