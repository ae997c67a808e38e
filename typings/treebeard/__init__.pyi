# Type stubs for the parts of django-treebeard the portal uses (territory and governance).
# treebeard ships no types: read from source, its managers are Manager[Any] and every tree
# method returns Any, so the tree models' querysets and nodes lost their types.
