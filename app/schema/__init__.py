"""Strawberry types, inputs, permissions and the Schema. Types describe and delegate."""
