"""From matches to messages people read.

Takes matched items; decides which belong to one story (`stories`), renders and sends messages
through apprise (`notify`), periodic digests (`digest`) and operator notices (`operator`).
Everything that came from a feed or a page is untrusted text when rendered.
"""
