"""Export and sharing: de-identified copies (PS3.15 Annex E), patient media (IHE PDI), images and movies.

Qt-free and VTK-free: the command line and the GUI's export dialog both call in here.
"""
