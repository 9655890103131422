"""The reading session: what the reader has open and what the reader made (no Qt, no VTK).

One home for the state of a reading session, between the window (``workstation.ui``)
and the pixel pipeline (``workstation.imaging``) and the cache (``workstation.store``):

- :mod:`~workstation.session.reading`: :class:`ReadingSession`, the open studies, their
  display sets, the viewport grid, measurements and annotations, key-image marks;
- :mod:`~workstation.session.study_work`: the file that keeps the reader's measurements,
  annotations and key-image marks of a study under the home (what the report command reads);
- :mod:`~workstation.session.work_keeper`: saves that work as it is made (or when the reader
  says so), restores it when the study opens again, knows what is unsaved;
- :mod:`~workstation.session.unsaved`: what would be lost or left behind when studies close
  or the application quits, and what Save and Discard do;
- :mod:`~workstation.session.saved_views`, :mod:`~workstation.session.saved_objects`,
  :mod:`~workstation.session.key_image_sets`: presentation states and key object selections
  the session saves into the cache and finds there;
- :mod:`~workstation.session.patient`: which patient a session belongs to.

The window observes the session the napari way: the session calls plain Python
callbacks (:meth:`ReadingSession.subscribe`), the widgets repaint.
"""
