"""One date format for typing dates, in the admin and on the public pages: ISO 8601, YYYY-MM-DD
(unambiguous in every country the archive's readers come from). Dates in running text stay in
words ("23 March 2016"), as Django's en-GB formats write them."""

DATE_INPUT_FORMATS = ["%Y-%m-%d"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
