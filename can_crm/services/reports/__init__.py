"""Figures for coordinators: the fulfilment dashboard."""
