"""Small ipywidgets "try it" controls used by the lessons, one module per lesson.

Each builder returns the widget (display it as the cell's last expression) and
keeps its drawing logic in a plain function that a test or a lesson cell can
call directly, so notebooks executed without a browser still exercise it.
"""
