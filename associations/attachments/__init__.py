"""Photos and documents attached to records (activities, households, councils): the shared
machinery every app uses, so no app re-implements upload checks or file storage.

- checks: what a file is, from its bytes; the size cap, kept while reading
- images: pictures re-encoded without their metadata (EXIF/GPS), with a thumbnail
- storage: private files under MEDIA_ROOT/attachments/<county>/<year>/
- models: AttachmentBase, the abstract model each app's attachment model extends
- services: attachment_add / attachment_delete / attachments_delete_all
- views: upload, download and delete views to subclass; the attachments card's context
"""
