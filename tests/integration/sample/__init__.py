"""A FastAPI app shaped like the seeds' MarketEdge API: routers gathered into one API router.

The tests copy this package under a fresh name for each app they build, so that two versions
of it (the healthy release, the broken one) can be imported in one process.
"""
