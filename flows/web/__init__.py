"""The alert archive page: recent alerts with their evidence, feedback buttons, feed health."""
