package install

const defaultRoot = `C:\Program Files\OMFLOW Server`
