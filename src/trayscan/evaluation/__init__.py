"""`trayscan eval`: checkout accuracy with the RPC metrics, for trayscan and for the PP-ShiTu way."""
