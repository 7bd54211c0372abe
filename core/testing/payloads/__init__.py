"""Real-shaped storage event payloads, one per cloud, as the platforms deliver them.

Load them with :func:`hookline.testing.sample_events` (or read the JSON files directly).
"""
