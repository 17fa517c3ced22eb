"""The Streamlit-free core: data, filters, figures, comparisons, tables, text and escaping."""
