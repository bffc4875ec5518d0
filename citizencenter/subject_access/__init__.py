"""The citizen's own data: everything held about one person, exported or erased (GDPR 15, 17)."""
