"""Federation: a sector server replicating to the mission server over the sync protocol."""
