"""The demo target API: a stand-in for the customer's MarketEdge API, with fault switches."""
