"""Climate Networks Atlas: the dashboard and the Streamlit-free modules it and the notebook share."""
