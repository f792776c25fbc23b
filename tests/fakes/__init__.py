"""Test harnesses that stand in for outside services over real protocols."""
