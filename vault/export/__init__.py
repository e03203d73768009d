"""Export bundles: what may leave the firm to whom (:mod:`.rules`), and the BagIt bag written
as one stream, age-encrypted to the recipient (:mod:`.bag`)."""
