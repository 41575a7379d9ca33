"""The pieces of config/data/generate.py: the dataset it reads (`dataset`), the region
hierarchy it writes (`regions`), how a town name is placed (`places`), the hand corrections
(`overrides`) and the area-code table (`area_codes`)."""
