module example.com/mediaserver

go 1.19
