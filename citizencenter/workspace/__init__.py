"""The service guide's workspace: the use cases the guide's pages stand on."""
