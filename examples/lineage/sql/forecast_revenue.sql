-- Forecast next month's daily revenue: the average of the same weekday over the last
-- eight weeks, scaled by the business calendar's trading-day factor.
INSERT INTO revenue_forecast
WITH recent AS (
    SELECT extract(dow FROM day) AS weekday, avg(revenue) AS revenue
    FROM revenue_daily
    WHERE day >= current_date - INTERVAL '56 days'
    GROUP BY 1
)
SELECT c.day, r.revenue * c.trading_factor AS revenue
FROM calendar AS c
JOIN recent AS r ON r.weekday = extract(dow FROM c.day)
WHERE c.day > current_date;
