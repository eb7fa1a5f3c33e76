"""attnserve_ref: the PyTorch reference for attnserve models.

Contract: the modules here define the numbers the C++ engine must reproduce, and
their state_dict() names are the tensor names of docs/model-format.md.

- spec:            model.json schema: validation, defaults, expected tensor shapes
- safetensors_io:  minimal safetensors reader/writer (no external package)
- modules:         LstmEncoder, attention blocks, Head, Classifier
- export:          save_model / load_model for a model version directory
"""
