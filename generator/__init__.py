"""gen-topics code generator: compiles schemas/ into generated/."""
