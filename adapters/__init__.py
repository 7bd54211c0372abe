"""hookline's adapters: the ways hookline meets the outside world.

One module (or package) per cloud -- storage back-end, event parsing, serving wrapper,
packaging -- plus the serving app and the dashboard. A cloud SDK is imported only inside
the module for that cloud.
"""
