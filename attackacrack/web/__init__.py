"""What every page, download and API call shares, whichever app serves it: the API's error shape,
pagination, parsing and throttling (``api``, ``api_input``), Bearer tokens (``authentication``),
who may see a staff page (``pages``), and the rules every request and response obeys
(``middleware``). The apps' own views stay in their apps."""
