"""The service guide's pages: worklist, case, registration (one module each)."""
