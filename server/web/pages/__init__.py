"""Page routers of the HQ dashboard, one module per area; each route declares its permission."""
