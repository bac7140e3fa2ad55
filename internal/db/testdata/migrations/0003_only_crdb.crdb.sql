ALTER TABLE widgets CONFIGURE ZONE USING gc.ttlseconds = 600;
