"""What is made from the core and the map for people to take away: the briefing pack, the notebook helpers."""
