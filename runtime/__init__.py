"""gen-topics runtime: what generated topic modules import at run time."""
