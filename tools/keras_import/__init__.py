"""keras_import: Keras models (H5, .keras, TensorFlow.js layers) to attnserve models.

- containers: reads the Keras model config and the weights of the three containers
  into one form (KerasModel)
- graph:      the layer graph of a config (layers, their inputs and consumers)
- matcher:    matches the graph against the recipes attnserve serves and maps the
              weights; a graph it cannot serve exactly raises Refusal
- writer:     model.json + weights.safetensors (+ labels) of a version directory
"""
