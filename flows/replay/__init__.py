"""The seeds as a local news site.

Serves an RSS 2.0 feed and one realistic HTML page per seed on loopback (`replay_site`, `httpserve`),
so `raqib replay` runs the whole pipeline with no outside network.
"""
