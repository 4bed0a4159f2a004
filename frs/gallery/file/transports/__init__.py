"""Where shared gallery files live: ``protocol`` (what every transport offers), ``local``, ``s3``."""
